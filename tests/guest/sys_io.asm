; IN/OUT permission in protected mode: at CPL 3 with IOPL 0 the TSS I/O
; bitmap decides port by port (multi-byte accesses need every bit clear);
; POPF at CPL 3 cannot raise IOPL; with IOPL 3 every port is allowed.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
GPS    equ 0x590               ; #GP count
RESUME equ 0x594               ; where the #GP handler resumes
start:
    ENTER_PM32 pm
pm:
    STD_IDT
    SET_GATE 13, gp_handler
    SET_GATE 0x30, to_iopl3
    ; TSS: ring-0 stack, bitmap at 0x68 denying every port but 0x80,
    ; 0xE9 (console) and 0xF4 (exit)
    mov dword [TSS_LIN + 4], 0x7000
    mov dword [TSS_LIN + 8], SEL_DATA32
    mov word [TSS_LIN + 0x66], 0x68
    mov edi, TSS_LIN + 0x68
    mov ecx, 0x2000
    mov al, 0xff
    cld
    rep stosb
    and byte [TSS_LIN + 0x68 + 0x80 / 8], ~(1 << (0x80 & 7))
    and byte [TSS_LIN + 0x68 + 0xE9 / 8], ~(1 << (0xE9 & 7))
    and byte [TSS_LIN + 0x68 + 0xF4 / 8], ~(1 << (0xF4 & 7))
    mov ax, SEL_TSS
    ltr ax
    mov dword [GPS], 0
    ; at CPL 0 every port is allowed whatever the bitmap says
    in al, 0x81
    CHK "cpl0 in", [GPS], 0
    ; to ring 3 with IOPL 0
    push dword SEL_DATA3 | 3
    push dword 0x9000
    push dword 0x0002
    push dword SEL_CODE3 | 3
    push dword ring3
    iretd

ring3:
    mov ax, SEL_DATA3 | 3
    mov ds, ax
    mov es, ax
    mov al, 0
    out 0x80, al                ; allowed by the bitmap
    CHK "out 0x80", [GPS], 0
    mov dword [RESUME], ROM + .r1
    in al, 0x81                 ; denied
.r1:
    CHK "in 0x81", [GPS], 1
    mov dword [RESUME], ROM + .r2
    mov dx, 0xE8
    out dx, ax                  ; 0xE8 denied, 0xE9 allowed: denied
.r2:
    CHK "out 0xe8 word", [GPS], 2
    mov dword [RESUME], ROM + .r3
    mov dx, 0x7f
    in eax, dx                  ; 0x7f-0x82 includes denied ports
.r3:
    CHK "in 0x7f dword", [GPS], 3
    mov dword [RESUME], ROM + .r4
    mov dx, 0xFFFE
    in al, dx                   ; bitmap bytes past the TSS limit
.r4:
    CHK "in 0xfffe", [GPS], 4
    ; POPF at CPL 3 leaves IOPL alone
    pushfd
    or dword [esp], 0x3000
    popfd
    pushfd
    pop eax
    and eax, 0x3000
    CHK "popf iopl", eax, 0
    ; ask ring 0 for IOPL 3
    int 0x30
    pushfd
    pop eax
    and eax, 0x3000
    CHK "iopl", eax, 0x3000
    mov dword [RESUME], ROM + .r5
    in al, 0x81
.r5:
    CHK "iopl3 in 0x81", [GPS], 4
    FINISH

; #GP: count it, drop the error code, resume at [RESUME] (a ROM-relative
; EIP in the ROM code segment: subtract the base).
gp_handler:
    push eax
    push ds
    mov ax, SEL_DATA32
    mov ds, ax
    inc dword [GPS]
    mov eax, [RESUME]
    sub eax, ROM
    mov [esp + 12], eax
    pop ds
    pop eax
    add esp, 4
    iretd

; INT 0x30 from ring 3: return with IOPL 3.
to_iopl3:
    or dword [esp + 8], 0x3000
    iretd

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
