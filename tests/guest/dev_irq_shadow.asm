; The interrupt shadow of STI: with IRQ0 already requested and IF clear,
; "sti; nop; cli" takes the interrupt after the NOP and before the CLI
; (SDM vol. 2, STI: interrupts are recognized at the instruction boundary
; after the one following STI).  The handler records the return address;
; it must be the CLI's, exactly once per round.  Several rounds, so the
; same code runs both freshly decoded and from any cache of decoded code.
; umbra-args: -bios {bin} -no-reboot
%include "lib.inc"
    bits 16
    org 0
ROUNDS equ 4
count  equ 0x6000   ; interrupts taken
ret_ip equ 0x6002   ; return IP of the last one
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [0x20 * 4], irq0          ; IVT[0x20] = F000:irq0
    mov word [0x20 * 4 + 2], 0xf000
    mov word [count], 0
    ; 8259A master: ICW1 edge+ICW4, ICW2 base 0x20, ICW3 slave on IRQ2, ICW4 8086
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe                        ; only IRQ0
    out 0x21, al
    ; 8254 channel 0, mode 2, count 200 (about 170 us per request)
    mov al, 0x34
    out 0x43, al
    mov ax, 200
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov cx, ROUNDS
    mov bx, 1                           ; interrupts expected so far
round:
    mov al, 0x0a                        ; OCW3: reads of 0x20 return IRR
    out 0x20, al
.wait:
    in al, 0x20
    test al, 1
    jz .wait                            ; until IRQ0 is requested
    mov word [ret_ip], 0
    sti
    nop
after_nop:
    cli
    cmp word [count], bx
    jne bad_count
    cmp word [ret_ip], after_nop
    jne bad_ip
    inc bx
    loop round
    mov si, msg_ok
    call puts
    EXIT 0
bad_count:
    mov si, msg_count
    call puts
    EXIT 1
bad_ip:
    mov si, msg_ip
    call puts
    EXIT 1

irq0:
    push bp
    mov bp, sp
    push ax
    mov ax, [bp + 2]                    ; the interrupted IP
    mov [ret_ip], ax
    inc word [count]
    mov al, 0x20                        ; non-specific EOI
    out 0x20, al
    pop ax
    pop bp
    iret

    PUTS16

msg_ok: db "interrupt taken between nop and cli", 10, 0
msg_count: db "interrupt not taken in the window", 10, 0
msg_ip: db "interrupt taken at the wrong instruction", 10, 0

    ROM16_TAIL start
