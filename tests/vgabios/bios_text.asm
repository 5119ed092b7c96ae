; Debian's SeaBIOS VGA BIOS (vgabios-stdvga.bin, the std VGA's ROM) on
; Umbra's VGA with no system BIOS: a 128 KiB firmware image whose lower
; half holds the VGA BIOS (mapped at 0xE0000) and whose upper half is this
; program (0xF0000).  The program gives every interrupt a do-nothing
; handler, fills in the BIOS data area's memory size, copies the VGA BIOS
; to 0xC0000 (RAM: it writes its own variables) and calls its entry at
; C000:0003, as a system BIOS does.  Then, through INT 10h only: mode 03h,
; the string below by teletype output, and the BIOS's 8x16 font (AX=1130h,
; BH=06h), which it prints on the debug console with the cursor's start
; and end lines (CR0A/CR0B) so that check_bios.py can compute the screen.
; The ROM is taken from where the seabios package installs it (nasm
; -DVGABIOS='"path"' names another).
; umbra-args: -bios {bin} -no-reboot

%ifndef VGABIOS
%define VGABIOS "/usr/share/seabios/vgabios-stdvga.bin"
%endif

section vgarom start=0
vgarom:
    incbin VGABIOS
vgarom_end:
    times 0x10000 - ($ - $$) db 0

section code start=0x10000 vstart=0
[bits 16]
start:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    mov ds, ax
    mov es, ax
    ; Every vector: F000:iret_stub.
    xor di, di
    mov cx, 256
.ivt:
    mov word [di], iret_stub
    mov word [di + 2], 0xf000
    add di, 4
    loop .ivt
    mov word [0x413], 639              ; base memory in KiB
    mov word [0x40e], 0x9fc0           ; EBDA segment
    ; The VGA BIOS to C000:0000.
    mov ax, 0xe000
    mov ds, ax
    mov ax, 0xc000
    mov es, ax
    xor si, si
    xor di, di
    mov cx, (vgarom_end - vgarom + 1) / 2
    cld
    rep movsw
    xor ax, ax
    mov ds, ax
    mov ax, 0xffff                     ; no PCI device
    call 0xc000:0x0003
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    ; Mode 03h, then the string.
    mov ax, 0x0003
    int 0x10
    mov si, message
.tty:
    cs lodsb
    test al, al
    jz .tty_done
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    jmp .tty
.tty_done:
    ; Cursor lines as the BIOS programmed them.
    mov si, s_cursor
    call puts
    mov dx, 0x3d4
    mov al, 0x0a
    out dx, al
    inc dx
    in al, dx
    call hex8
    mov al, ' '
    out 0xe9, al
    dec dx
    mov al, 0x0b
    out dx, al
    inc dx
    in al, dx
    call hex8
    mov al, 10
    out 0xe9, al
    ; The 8x16 font: ES:BP, 16 bytes a character.
    mov ax, 0x1130
    mov bh, 0x06
    int 0x10
    cmp cx, 16
    jne fail
    mov si, s_font
    call puts
    xor dx, dx                         ; character
.char:
    mov cx, 16
.byte:
    mov al, [es:bp]
    call hex8
    inc bp
    loop .byte
    mov al, 10
    out 0xe9, al
    inc dx
    cmp dx, 256
    jb .char
    mov al, 0
    out 0xf4, al
.hang:
    hlt
    jmp .hang
fail:
    mov al, 1
    out 0xf4, al
    hlt

iret_stub:
    iret

; puts: the NUL-terminated string at CS:SI to the debug console.
puts:
    cs lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp puts
.done:
    ret

; hex8: AL as two hex digits on the debug console (AX kept but AL).
hex8:
    push ax
    shr al, 4
    call .digit
    pop ax
    push ax
    call .digit
    pop ax
    ret
.digit:
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    out 0xe9, al
    ret

message: db "Umbra VGA BIOS", 0
s_cursor: db "cursor ", 0
s_font: db "font", 10, 0

    times 0xfff0 - ($ - $$) db 0
    jmp 0xf000:start
    times 0x10000 - ($ - $$) db 0
