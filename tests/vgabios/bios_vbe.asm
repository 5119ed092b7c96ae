; Debian's SeaBIOS VGA BIOS (bios_lib.inc) setting VESA mode 101h (640x480,
; 256 colours) without the linear framebuffer, through INT 10h AX=4F02h,
; on Umbra's Bochs VBE interface.  The program reads the mode's window
; granularity, segment and scan line length (AX=4F01h), draws pixel (x, y)
; in colour (x + 2y) & 0xff through window A, moving it with AX=4F05h, and
; prints the geometry and the DAC (read with AX=1017h) on the debug console
; for check_bios.py.

%include "bios_lib.inc"

INFO equ 0x8000                        ; mode information block (0:8000)
DAC equ 0x8400                         ; 768 bytes of DAC entries

main:
    mov ax, 0x4f02
    mov bx, 0x0101
    int 0x10
    cmp ax, 0x004f
    jne fail
    mov ax, 0x4f01
    mov cx, 0x0101
    mov di, INFO
    int 0x10
    cmp ax, 0x004f
    jne fail
    ; Window granularity in bytes to EBP, scan line length to ESI.
    movzx ebp, word [INFO + 4]
    shl ebp, 10
    jz fail
    mov si, s_mode
    call puts_info
    mov ax, [INFO + 8]                 ; window A segment
    mov es, ax
    mov esi, -1                        ; current window position
    xor ebx, ebx                       ; y
.row:
    xor ecx, ecx                       ; x
.col:
    movzx eax, word [INFO + 0x10]
    imul eax, ebx
    add eax, ecx                       ; offset in video memory
    xor edx, edx
    div ebp                            ; EAX = window position, EDX = offset in it
    cmp eax, esi
    je .draw
    mov esi, eax
    push ebx
    push ecx
    push edx
    push esi
    push ebp
    mov dx, ax
    mov ax, 0x4f05
    xor bx, bx
    int 0x10
    pop ebp
    pop esi
    pop edx
    pop ecx
    pop ebx
.draw:
    lea eax, [ecx + ebx * 2]
    mov di, dx
    mov [es:di], al
    inc ecx
    cmp ecx, 640
    jb .col
    inc ebx
    cmp ebx, 480
    jb .row
    ; The DAC, as the BIOS reads it back.
    xor ax, ax
    mov es, ax
    mov ax, 0x1017
    xor bx, bx
    mov cx, 256
    mov dx, DAC
    int 0x10
    mov si, s_dac
    call puts
    mov si, DAC
    xor cx, cx
.entry:
    lodsb
    call hex8
    lodsb
    call hex8
    lodsb
    call hex8
    mov al, 10
    out 0xe9, al
    inc cx
    cmp cx, 256
    jb .entry
    mov al, 0
    out 0xf4, al
.hang:
    hlt
    jmp .hang
fail:
    mov al, 1
    out 0xf4, al
    hlt

; puts_info: "mode W H PITCH" from the mode information block.
puts_info:
    call puts
    mov ax, [INFO + 0x12]
    call hex16
    mov al, ' '
    out 0xe9, al
    mov ax, [INFO + 0x14]
    call hex16
    mov al, ' '
    out 0xe9, al
    mov ax, [INFO + 0x10]
    call hex16
    mov al, 10
    out 0xe9, al
    ret

hex16:
    push ax
    mov al, ah
    call hex8
    pop ax
    jmp hex8

s_mode: db "mode ", 0
s_dac: db "dac", 10, 0

    BIOS_TAIL
